# A sample size of 0 (the counts of the cohort and of the partition then exceed it too).
# expect: violation kgsh:Population <23906502/population/1> kg:sampleSize minInclusive
# expect: violation kgsh:Measurement <23906502/measurement/2> kg:count kgsh:Measurement-count-within-sample
# expect: violation kgsh:Measurement <23906502/measurement/3> kg:count kgsh:Measurement-count-within-sample
# expect: violation kgsh:Measurement <23906502/measurement/7> kg:count kgsh:Measurement-count-within-sample
DELETE DATA { <23906502/population/1> kg:sampleSize 27 } ;
INSERT DATA { <23906502/population/1> kg:sampleSize 0 }
