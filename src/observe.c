/* observe: not yet written */
