# An affiliation that is a number.
# expect: violation kgsh:Author-affiliation <18719013/author/1> kg:affiliation datatype
INSERT DATA { <18719013/author/1> kg:affiliation 42 }
