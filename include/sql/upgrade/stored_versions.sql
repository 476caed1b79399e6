-- Which of these fill ids a fills table already has, and their newest version.
SELECT fill_id, max(version) AS version
FROM {db:Identifier}.{fills_table:Identifier}
WHERE fill_id IN {ids:Array(String)}
GROUP BY fill_id;
