# A finding that points at two sentences, with a probability above 1.
# expect: violation kgsh:Finding <9307346/finding/3> kg:evidenceSpan maxCount
# expect: violation kgsh:Finding <9307346/finding/3> kg:probability maxInclusive
DELETE WHERE { <9307346/finding/3> kg:probability ?p } ;
INSERT DATA { <9307346/finding/3> kg:evidenceSpan <9307346/span/1838-2086> ; kg:probability 1.5 }
