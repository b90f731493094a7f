# A supplementary concept whose MeSH term is a descriptor (D…), not a concept record (C…).
# expect: violation kgsh:SupplementaryConcept <1/concept/1> kg:meshConcept pattern
DELETE DATA { <1/concept/1> kg:meshConcept mesh:C480833 } ;
INSERT DATA { <1/concept/1> kg:meshConcept mesh:D002166 }
