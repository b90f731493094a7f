# Equal contribution as a string.
# expect: violation kgsh:Author-equalContribution <18719013/author/1> kg:equalContribution datatype
INSERT DATA { <18719013/author/1> kg:equalContribution "yes" }
