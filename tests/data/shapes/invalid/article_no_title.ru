# No title and no vernacular title. (The seed's condition and intervention, found in the title
# and so without a span, then lose what vouched for them: two warnings.)
# expect: violation kgsh:ArticleTitle <23906502> -
# expect: warning kgsh:TextProvenanceOrTitle <23906502/condition/1> kg:foundBy
# expect: warning kgsh:TextProvenanceOrTitle <23906502/intervention/1> kg:foundBy
DELETE WHERE { <23906502> dcterms:title ?t }
