// The build must have failed on the consumer's ban rules and not on anything else: the
// consumer's build, with each banned library that the fake receptive-core brings marked banned.
def log = new File(basedir, 'build.log').text
assert log.contains('Building Receptive consumer example') : 'not the consumer example build'
assert log.contains('BannedDependencies failed') : 'the ban on dependencies did not fail the build'
['info.picocli:picocli', 'org.jline:jline-terminal', 'org.knowm.xchart:xchart', 'org.junit.jupiter:junit-jupiter-api',
 'org.opentest4j:opentest4j', 'org.apiguardian:apiguardian-api'].each { banned ->
    assert log.readLines().any { it.contains(banned + ':jar:') && it.contains('<--- banned') } : "$banned is not marked banned"
}
true
