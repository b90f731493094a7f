# A study with two populations.
# expect: violation kgsh:Study <23906502/study/1> kg:population maxCount
INSERT DATA { <23906502/study/1> kg:population <23906502/population/2> . <23906502/population/2> a kg:Population }
