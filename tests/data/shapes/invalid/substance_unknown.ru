# A substance descriptor not in kg's MeSH table (info).
# expect: info kgsh:Substance <18719013/substance/1> kg:meshTerm or
DELETE WHERE { <18719013/substance/1> kg:meshTerm ?m } ;
INSERT DATA { <18719013/substance/1> kg:meshTerm mesh:D999999 }
