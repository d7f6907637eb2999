/* diag: not yet written */
