/* scheduler: not yet written */
