# A descriptor-qualifier pair that is not the heading's descriptor and qualifier.
# expect: violation kgsh:MeshHeading <18719013/mesh/1> kg:descriptorQualifier kgsh:MeshHeading-pairs-match
INSERT DATA { <18719013/mesh/1> kg:descriptorQualifier mesh:D000368Q000188 }
