# A mean outside its stated range (4.8, range 1-15, made 16).
# expect: violation kgsh:Summary <23906502/courses/1> kg:mean kgsh:Summary-in-range
DELETE WHERE { <23906502/courses/1> kg:mean ?m } ;
INSERT DATA { <23906502/courses/1> kg:mean 16.0 }
