# A heading without its major-topic flag.
# expect: violation kgsh:MeshHeading <18719013/mesh/1> kg:majorTopic minCount
DELETE WHERE { <18719013/mesh/1> kg:majorTopic ?m }
