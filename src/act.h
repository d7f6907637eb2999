/* act: not yet written */
