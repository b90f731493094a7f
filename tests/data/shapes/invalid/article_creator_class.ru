# An author link to a node that is no person or group.
# expect: violation kgsh:Article <18719013> dcterms:creator or
INSERT DATA { <18719013> dcterms:creator <18719013/grant/1> }
