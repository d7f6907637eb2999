/* target: not yet written */
