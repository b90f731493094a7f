# An intervention found by a text rule, with no span, whose words are not in the title (a warning: it may be a title match).
# expect: warning kgsh:TextProvenanceOrTitle <18719013/intervention/3> kg:foundBy kgsh:TextProvenanceOrTitle-span
DELETE DATA { <18719013/intervention/3> rdfs:label "hormone replacement therapy" } ;
INSERT DATA { <18719013/intervention/3> rdfs:label "oestrogen therapy" }
