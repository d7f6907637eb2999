/* prompt: not yet written */
