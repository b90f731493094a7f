# A health condition not in kg's MeSH table.
# expect: violation kgsh:Study <23906502/study/1> schema:healthCondition class
INSERT DATA { <23906502/study/1> schema:healthCondition mesh:D999999 }
