/* advisor_ipa_agent: not yet written */
