# A well-formed descriptor that is not in kg's MeSH table: an info, since NLM's headings include terms the table lacks.
# expect: info kgsh:MeshHeadingKnown <18719013/mesh/1> kg:descriptor class
DELETE DATA { <18719013/mesh/1> kg:descriptor mesh:D000368 } ;
INSERT DATA { <18719013/mesh/1> kg:descriptor mesh:D999999 }
