/* ipa: not yet written */
