# A supplementary concept with two names.
# expect: violation kgsh:SupplementaryConcept <1/concept/1> rdfs:label maxCount
INSERT DATA { <1/concept/1> rdfs:label "irinotecan, fluorouracil, leucovorin" }
