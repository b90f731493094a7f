# A median outside its IQR.
# expect: violation kgsh:Measurement <23906502/measurement/1> kg:median kgsh:Measurement-within-bounds
INSERT DATA { <23906502/measurement/1> kg:median 20.0 ; kg:iqrLower 2.0 ; kg:iqrUpper 8.0 }
