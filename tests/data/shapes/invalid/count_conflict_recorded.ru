# A count above its denominator where kg recorded the conflict: a warning.
# expect: warning kgsh:MeasurementConflict <10027318/measurement/1> kg:count sparql
# expect: warning kgsh:MeasurementConflict <10027318/measurement/1> kg:percentage sparql
INSERT DATA { <10027318/measurement/1> kg:denominator 4 }
