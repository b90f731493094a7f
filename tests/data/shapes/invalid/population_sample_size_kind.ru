# A sample size said to be of a kind kg does not know.
# expect: violation kgsh:Population <23906502/population/1> kg:sampleSizeKind in
INSERT DATA { <23906502/population/1> kg:sampleSizeKind "screened" }
