# A quote that is not the abstract's text at its offsets.
# expect: violation kgsh:Span <23906502/span/508-558> oa:exact kgsh:Span-quote-at-offsets
DELETE WHERE { <23906502/span/508-558> oa:exact ?q } ;
INSERT DATA { <23906502/span/508-558> oa:exact "Twenty patients (70%) exhibited a major response" }
