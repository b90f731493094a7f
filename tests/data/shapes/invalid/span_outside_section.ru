# A span that names a section it does not lie in.
# expect: violation kgsh:Span <23906502/span/9-29> kg:inSection kgsh:Span-in-section
DELETE WHERE { <23906502/span/9-29> kg:inSection ?s } ;
INSERT DATA { <23906502/span/9-29> kg:inSection <23906502/section/2> }
