# A study described in an article that does not report it.
# expect: violation kgsh:Study <23906502/study/1> kg:describedIn kgsh:Study-reported-back
# expect: violation kgsh:Study <23906502/study/1> kg:describedIn or
DELETE DATA { <23906502/study/1> kg:describedIn <23906502> } ;
INSERT DATA { <23906502/study/1> kg:describedIn <18719013> }
