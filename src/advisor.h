/* advisor: not yet written */
