# A build without its end time.
# expect: violation kgsh:Build <../build/88a8108779fa-8bf12b74917f-0f3997936c0f-29bbdf132c13-72b6d3ffa7e4> prov:endedAtTime minCount
DELETE WHERE { ?b prov:endedAtTime ?t }
