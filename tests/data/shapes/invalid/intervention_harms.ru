# 'Harms indexed' as a string.
# expect: violation kgsh:Intervention <18719013/intervention/1> kg:harmsIndexed datatype
INSERT DATA { <18719013/intervention/1> kg:harmsIndexed "yes" }
