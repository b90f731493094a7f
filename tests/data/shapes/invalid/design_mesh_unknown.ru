# A design feature kg tied to a MeSH term that does not exist.
# expect: violation kgsh:DesignFeature <23906502/design/1> kg:mesh kgsh:DesignFeature-mesh-known
INSERT DATA { <23906502/design/1> kg:mesh mesh:D999999 }
