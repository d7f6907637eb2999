/* policy: not yet written */
