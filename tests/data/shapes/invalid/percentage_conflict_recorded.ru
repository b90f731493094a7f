# Numbers that disagree where kg recorded the abstract's own conflict: a warning, not a violation.
# expect: warning kgsh:MeasurementConflict <10027318/measurement/1> kg:percentage sparql
INSERT DATA { <10027318/measurement/1> kg:denominator 19 }
