# A short form the definition's span does not hold.
# expect: violation kgsh:AbbreviationDefinition <23906502/abbreviation/1> kg:shortForm kgsh:AbbreviationDefinition-in-quote
DELETE DATA { <23906502/abbreviation/1> kg:shortForm "DM" } ;
INSERT DATA { <23906502/abbreviation/1> kg:shortForm "PM" }
