/* advisor_builtin: not yet written */
