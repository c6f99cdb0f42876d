#!/usr/bin/perl
# An independent OAI-PMH client for Ziyuan's tests: Perl's HTTP::OAI (Debian libhttp-oai-perl)
# harvests the provider at the base URL given as the argument, completely, and prints what it
# got, one line per fact, for the Go test to compare with what the repository holds:
#
#   identify <repositoryName>\t<protocolVersion>\t<granularity>\t<deletedRecord>
#   format <prefix>
#   set <setSpec>
#   header <identifier>\t<datestamp>\t<status or "live">
#   record <prefix> <identifier>\t<title or "deleted">
#   get <identifier>\t<title>
#   done
#
# Any error response or failed request ends it with a message and exit status 1.
use strict;
use warnings;
use Carp;      # HTTP::OAI::UserAgent uses Carp without loading it
use HTTP::OAI;
use HTTP::OAI::Metadata::OAI_DC;
use XML::LibXML;

binmode(STDOUT, ':encoding(UTF-8)');
my $base = shift or die "usage: harvest.pl BASE_URL\n";
my $h = HTTP::OAI::Harvester->new(baseURL => $base, resume => 1);

sub check {
	my ($what, $r) = @_;
	die "$what: " . $r->code . " " . $r->message . "\n" if $r->is_error;
	return $r;
}

my $id = check('Identify', $h->Identify);
print join("\t", "identify " . $id->repositoryName, $id->protocolVersion, $id->granularity, $id->deletedRecord), "\n";

my $formats = check('ListMetadataFormats', $h->ListMetadataFormats);
while (my $f = $formats->next) {
	print "format ", $f->metadataPrefix, "\n";
}

my $sets = check('ListSets', $h->ListSets);
while (my $s = $sets->next) {
	print "set ", $s->setSpec, "\n";
}

my @live;
check('ListIdentifiers', $h->ListIdentifiers(metadataPrefix => 'oai_dc', onRecord => sub {
	my $hd = shift;
	my $status = $hd->status || 'live';
	print join("\t", "header " . $hd->identifier, $hd->datestamp, $status), "\n";
	push @live, $hd->identifier if $status ne 'deleted';
}));

for my $prefix ('oai_dc', 'lom') {
	my %args = (metadataPrefix => $prefix, onRecord => sub {
		my $rec = shift;
		my $title = 'deleted';
		if (!$rec->is_deleted) {
			if ($prefix eq 'oai_dc') {
				$title = join(',', @{$rec->metadata->dc->{'title'}});
			} else {
				# LOM is read from the DOM: lom/general/title/string, in LOM's namespace.
				my $xc = XML::LibXML::XPathContext->new($rec->metadata->dom);
				$xc->registerNs('lom', 'http://ltsc.ieee.org/xsd/LOM');
				$title = $xc->findvalue('.//lom:lom/lom:general/lom:title/lom:string') || '(no title)';
				$title =~ s/^\s+|\s+$//g;
			}
		}
		print join("\t", "record $prefix " . $rec->identifier, $title), "\n";
	});
	$args{handlers} = {metadata => 'HTTP::OAI::Metadata::OAI_DC'} if $prefix eq 'oai_dc';
	check("ListRecords $prefix", $h->ListRecords(%args));
}

if (@live) {
	my $r = check('GetRecord', $h->GetRecord(identifier => $live[0], metadataPrefix => 'oai_dc',
		handlers => {metadata => 'HTTP::OAI::Metadata::OAI_DC'}));
	my $rec = $r->next;
	print join("\t", "get " . $rec->identifier, join(',', @{$rec->metadata->dc->{'title'}})), "\n";
}
print "done\n";
