/* duration: not yet written */
