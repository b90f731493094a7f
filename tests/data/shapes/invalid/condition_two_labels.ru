# A condition with two labels (one of them, "DM", not in the title: a warning too).
# expect: violation kgsh:Condition <23906502/condition/1> rdfs:label maxCount
# expect: warning kgsh:TextProvenanceOrTitle <23906502/condition/1> kg:foundBy
INSERT DATA { <23906502/condition/1> rdfs:label "DM" }
