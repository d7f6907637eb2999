/* advice: not yet written */
