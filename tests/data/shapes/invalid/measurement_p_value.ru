# A p-value above 1.
# expect: violation kgsh:Measurement <23906502/measurement/1> kg:pValue maxInclusive
INSERT DATA { <23906502/measurement/1> kg:pValue 1.5 }
