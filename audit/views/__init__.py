"""One blueprint per audience: auth (everyone), organiser, auditor, director."""
