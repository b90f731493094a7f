# A journal's ISO abbreviation that is not a string.
# expect: violation kgsh:Journal <https://w3id.org/kg/id/journal/0370635> kg:isoAbbreviation datatype
INSERT DATA { <https://w3id.org/kg/id/journal/0370635> kg:isoAbbreviation 370635 }
