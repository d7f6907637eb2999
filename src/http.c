/* http: not yet written */
