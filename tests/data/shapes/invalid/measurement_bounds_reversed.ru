# A range whose lower bound is above its upper bound.
# expect: violation kgsh:Measurement <23906502/measurement/1> kg:rangeLower kgsh:Measurement-within-bounds
INSERT DATA { <23906502/measurement/1> kg:rangeLower 10.0 ; kg:rangeUpper 5.0 }
