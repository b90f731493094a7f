# A UCUM code that is not the time unit's.
# expect: violation kgsh:Measurement <10027318/measurement/2> kg:timeUnitCode kgsh:Measurement-unit-code
DELETE DATA { <10027318/measurement/2> kg:timeUnitCode "mo" } ;
INSERT DATA { <10027318/measurement/2> kg:timeUnitCode "a" }
