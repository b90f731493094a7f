# A grant with two ids.
# expect: violation kgsh:Grant <18719013/grant/1> schema:identifier maxCount
INSERT DATA { <18719013/grant/1> schema:identifier "X-1" , "X-2" }
