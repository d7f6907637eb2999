/* journal: not yet written */
