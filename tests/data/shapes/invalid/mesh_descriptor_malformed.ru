# A descriptor IRI that is no MeSH UI.
# expect: violation kgsh:MeshHeading <18719013/mesh/1> kg:descriptor pattern
# expect: info kgsh:MeshHeadingKnown <18719013/mesh/1> kg:descriptor class
DELETE DATA { <18719013/mesh/1> kg:descriptor mesh:D000368 } ;
INSERT DATA { <18719013/mesh/1> kg:descriptor <http://id.nlm.nih.gov/mesh/368> }
