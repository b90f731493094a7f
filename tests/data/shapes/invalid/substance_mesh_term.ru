# A substance whose MeSH term is a qualifier.
# expect: violation kgsh:Substance <18719013/substance/1> kg:meshTerm pattern
DELETE WHERE { <18719013/substance/1> kg:meshTerm ?m } ;
INSERT DATA { <18719013/substance/1> kg:meshTerm mesh:Q000188 }
