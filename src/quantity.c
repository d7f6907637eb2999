/* quantity: not yet written */
