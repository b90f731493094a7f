# Software with two versions.
# expect: violation kgsh:SoftwareAgent <https://w3id.org/kg/software/0.1.0> schema:softwareVersion maxCount
INSERT DATA { <https://w3id.org/kg/software/0.1.0> schema:softwareVersion "9.9.9" }
